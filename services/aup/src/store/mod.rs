//! The aup service's SQL and its consumers' writes. Empty until the service keeps tables of its own.
