"""All SQL of bidding outside the opening: tenders and their documents, downloads and questions
(`tenders`), uploads, bids and their versions (`bids`), objections to the documents (`objections`).
Services and jobs ask these repositories by what they read; rows about to change are loaded
``with_for_update()`` and re-read (``populate_existing``) when the session may hold them already.
"""
