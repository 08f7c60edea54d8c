//! HPROF reader tests on dumps written byte by byte, so every rule can be broken on purpose.
