"""Use cases: one function per change, one transaction each; the only writers."""
