"""The marketplace JSON API under ``/api/v1/intermediary``, one module per audience; ``routes``
lists the controllers and the public paths for the composition root.

Errors are problem+json naming the field and the rule.
"""
