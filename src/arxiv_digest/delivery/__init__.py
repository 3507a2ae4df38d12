"""Delivery: each new digest sent to the reader's inbox and team chat, once.

``outline`` is the digest as every channel sees it; ``email`` and ``chat`` turn it into
each medium's messages and send them; ``dispatch`` decides what is due and keeps, in the
store, what each channel has received.
"""
