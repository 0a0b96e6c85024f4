"""Protocol core, commitments: quantization, leaf packing, Merkle trees and commit hashes (no I/O)."""
