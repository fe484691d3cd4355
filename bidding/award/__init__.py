"""The award stage (issue 16): candidates' publicity, objections and complaints, award, notices,
the online contract, and the tender's electronic archive (`archive`, verified offline by
``python -m bidding.award.verify ARCHIVE.zip``).
"""
