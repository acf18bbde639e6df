"""Printing: QR codes, PDF certificates of issued credentials and claim posters.

Pure renderers (no request, no database query): they take plain values and return bytes. Only
:func:`badgehub.printing.certificate.certificate_data` reads a model, to build the plain values.
"""
