"""Files in and out: image decoding (PNG fast path, PDF and HEIC pages), the packaged MNIST, and the row
formats (JSONL, CSV, Parquet) of bulk runs. Knows no model.
"""
