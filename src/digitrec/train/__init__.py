"""Training with torch (the `train` extra): networks, the loop, the line reader's loop, checkpoints,
snapshots, torchrun, export to ONNX and the model files, calibration before the single write.
"""
