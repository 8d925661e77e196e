"""Licence-plate OCR: OpenCV finds the characters, two independent engines read them.

The package imports nothing heavy itself: OpenCV, the engines and their models load only in a
process that reads a plate (:mod:`app.alpr.ocr.pipeline`), so the web process and a release
worker that never do stay about 50 MB smaller.
"""
