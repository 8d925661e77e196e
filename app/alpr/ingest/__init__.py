"""Ingest of plate reads: validation, dedupe and bulk insert, periods of active use, the batch.

:mod:`.validation` checks a batch whole before anything is stored; :mod:`.batch` stores it
(:func:`app.alpr.ingest.batch.ingest_reads`) through :mod:`.store` (dedupe and bulk insert)
and :mod:`.periods` (the log of use's periods of active use, 425.5.1).
"""
