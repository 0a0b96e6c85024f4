"""Protocol core, aggregation: leaf-local rules in integer arithmetic (no I/O)."""
