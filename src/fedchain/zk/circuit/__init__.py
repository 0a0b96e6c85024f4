"""The circuit of a training step: its ONNX graph and EZKL's run arguments (pure: bytes and dicts, no files)."""
