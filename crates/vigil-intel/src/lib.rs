//! vigil-intel (placeholder: being written)
