"""Match quality: real collaboration data and a labelled Czech/English set.

Run ``python -m bench.quality`` (see ``__main__``); figures in docs/quality.md.
"""
