"""The evaluation committee (issue 15 item 2): an evaluation's setup, the committee draw
(commit → run → publish), the members' answers and the reserves that replace decliners.
"""
