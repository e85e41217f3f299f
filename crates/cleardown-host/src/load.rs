//! Loading provider libraries (SPEC L1): the contract stamp first, through
//! libloading, then abi_stable's layout-checked root module.

use std::path::{Path, PathBuf};

use abi_stable::library::{LibraryError, lib_header_from_path};
use cleardown_contract::{
    ContractVersion,
    abi::{ContractStamp, ProviderModule_Ref, STAMP_MAGIC, STAMP_SYMBOL, VersionMismatch},
};

/// Why a provider could not be loaded or opened. Every variant names the
/// file and says what was expected, in one line.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: no such file", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: not a loadable dynamic library: {source}", path.display())]
    NotALibrary {
        path: PathBuf,
        #[source]
        source: libloading::Error,
    },
    #[error("{}: not a loadable dynamic library: {reason}", path.display())]
    Malformed { path: PathBuf, reason: String },
    #[error(
        "{}: not a cleardown provider: the library exports no `{STAMP_SYMBOL}` (was it built with cleardown_sdk::export_provider!?)",
        path.display()
    )]
    NoStamp { path: PathBuf },
    #[error("{}: not a cleardown provider: `{STAMP_SYMBOL}` does not hold a cleardown stamp", path.display())]
    BadStamp { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Version {
        path: PathBuf,
        #[source]
        source: VersionMismatch,
    },
    #[error("{}: the provider's root module is missing or its layout does not match this host: {source}", path.display())]
    Abi {
        path: PathBuf,
        #[source]
        source: Box<LibraryError>,
    },
    #[error("{provider}: refused its configuration {config:?}: {reason}")]
    Config {
        provider: String,
        config: String,
        reason: String,
    },
    #[error("{provider}: faulty provider: {reason}")]
    Faulty { provider: String, reason: String },
    #[error("no bundled provider named `{name}` (bundled: {bundled})")]
    UnknownProvider { name: String, bundled: String },
    #[error("could not build the bundled providers with cargo: {reason}")]
    Build { reason: String },
}

/// A provider library that passed the stamp and layout checks.
pub(crate) struct Library {
    pub(crate) module: ProviderModule_Ref,
    pub(crate) built_against: ContractVersion,
    pub(crate) negotiated: ContractVersion,
    // Kept so the library stays mapped for as long as the host runs; abi_stable
    // leaks its own handle too, so a provider's code is never unmapped under it.
    _handle: Option<libloading::Library>,
}

impl Library {
    /// A provider linked into this process (benchmarks, embedding).
    pub(crate) fn linked(module: ProviderModule_Ref) -> Library {
        let current = cleardown_contract::CONTRACT_VERSION;
        Library {
            module,
            built_against: current,
            negotiated: current,
            _handle: None,
        }
    }

    pub(crate) fn open(path: &Path) -> Result<Library, LoadError> {
        let path_buf = || path.to_path_buf();
        // What the path is, before anything opens it: opening a FIFO
        // blocks until a writer comes, and a device can be read for ever.
        match std::fs::metadata(path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(LoadError::NotFound { path: path_buf() });
            }
            // A symlink loop, a directory we may not search: say so, not
            // "no such file".
            Err(error) => {
                return Err(LoadError::Malformed {
                    path: path_buf(),
                    reason: format!("cannot read it: {error}"),
                });
            }
            Ok(metadata) if !metadata.is_file() => {
                return Err(LoadError::Malformed {
                    path: path_buf(),
                    reason: format!("not a regular file but {}", file_kind(&metadata)),
                });
            }
            Ok(_) => {}
        }
        preflight(path)?;
        // SAFETY: loading a library runs its initialisers. That is inherent to
        // plugins; the user chose this file as a provider.
        let handle =
            unsafe { libloading::Library::new(path) }.map_err(|source| LoadError::NotALibrary {
                path: path_buf(),
                source,
            })?;
        let stamp = read_stamp(&handle).ok_or_else(|| LoadError::NoStamp { path: path_buf() })?;
        if stamp.magic != STAMP_MAGIC {
            return Err(LoadError::BadStamp { path: path_buf() });
        }
        let negotiated =
            cleardown_contract::abi::negotiate(cleardown_contract::CONTRACT_VERSION, stamp.version)
                .map_err(|source| LoadError::Version {
                    path: path_buf(),
                    source,
                })?;
        // Several plugins share one root-module type, so go through the
        // library header per path: `RootModule::load_from*` would cache the
        // first library for every later path.
        let module = lib_header_from_path(path)
            .and_then(|header| header.init_root_module::<ProviderModule_Ref>())
            .map_err(|source| LoadError::Abi {
                path: path_buf(),
                source: Box::new(source),
            })?;
        Ok(Library {
            module,
            built_against: stamp.version,
            negotiated,
            _handle: Some(handle),
        })
    }
}

/// What a file that is not a regular file is, for a message.
fn file_kind(metadata: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    let kind = metadata.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// Refuses files the system loader would map but then crash on: anything
/// that is not a dynamic library of a known object format, and a library
/// whose loadable segments reach past the end of the file (a truncated copy
/// would otherwise load and raise SIGBUS on first use).
fn preflight(path: &Path) -> Result<(), LoadError> {
    use object::{Object, ObjectKind, ObjectSegment};
    let malformed = |reason: String| LoadError::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    // Only what the check needs is read (headers and the segment table,
    // through a read cache): a library is megabytes, and the conformance
    // worker loads one per fixture and per generated scenario.
    let handle =
        std::fs::File::open(path).map_err(|error| malformed(format!("cannot read it: {error}")))?;
    let length = handle
        .metadata()
        .map_err(|error| malformed(format!("cannot read it: {error}")))?
        .len();
    let cache = object::ReadCache::new(handle);
    let file = object::File::parse(&cache)
        .map_err(|error| malformed(format!("not an object file this platform loads ({error})")))?;
    if file.kind() != ObjectKind::Dynamic {
        return Err(malformed(format!(
            "it is a {:?} object, not a dynamic library",
            file.kind()
        )));
    }
    for segment in file.segments() {
        let (offset, size) = segment.file_range();
        if offset.saturating_add(size) > length {
            return Err(malformed(format!(
                "truncated: a segment needs bytes {offset}..{} but the file has {length}",
                offset.saturating_add(size)
            )));
        }
    }
    Ok(())
}

fn read_stamp(handle: &libloading::Library) -> Option<ContractStamp> {
    let mut symbol = STAMP_SYMBOL.as_bytes().to_vec();
    symbol.push(0);
    // SAFETY: the symbol is a `#[repr(C)]` static `ContractStamp` in every
    // cleardown provider; for other libraries that happen to export the name,
    // the magic check rejects it. The read is unaligned-safe and copies.
    unsafe {
        let address = handle.get::<*const ContractStamp>(&symbol).ok()?;
        let pointer: *const ContractStamp = *address;
        (!pointer.is_null()).then(|| pointer.read_unaligned())
    }
}
