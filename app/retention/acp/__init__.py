"""Address Confidentiality Program requests (425.5(b)): plates only as keyed HMACs.

A participant's plates are never stored, logged or audited in clear. :mod:`.digests` keeps the
keyed digests, :mod:`.screening` decides at collection what a suppressed plate's new read
becomes, and :mod:`.lifecycle` takes a participant's written request through its steps.
"""
