"""The evaluation stage (评标, issue 15): expert pool, committee draw, venues, scoring and the report."""
