//! vigil-engine (placeholder: being written)
