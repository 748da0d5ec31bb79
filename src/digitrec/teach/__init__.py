"""A personal model from a few of the user's own digits, on the light install: features from the base's
ONNX graph, a numpy head re-fitted with a replay of MNIST training features, the teaching sheet.
"""
