"""Who is asking (the actor), what they may do (permissions), and the guard that checks it."""
