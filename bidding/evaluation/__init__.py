"""The evaluation stage (评标, issue 15): from the opened bids to a report signed by every expert."""
