//! vigil-store (placeholder: being written)
