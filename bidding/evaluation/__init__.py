"""The evaluation stage (评标, issue 15): the expert pool, the committee draw, venues, scoring and the report."""
