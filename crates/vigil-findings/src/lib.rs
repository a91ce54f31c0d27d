//! vigil-findings (placeholder: being written)
