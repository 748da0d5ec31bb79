"""Reading with ONNX Runtime: one digit (`digits`), lines of digits (`lines`, `ctc`, `decoding`,
`strings`), forms (`cells`), verdicts on refusals, bulk runs, worker pools and Ray. Never imports torch,
click, fastapi, `synth` or `train`.
"""
