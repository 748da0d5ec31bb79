"""Drawing data: pictures of digits on paper, photos, lines, non-digits, printed digits, form layouts,
other writers' styles, the shifted calibration set. Never imports `read` or `train`.
"""
