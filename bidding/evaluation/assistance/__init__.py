"""Intelligent assistance (智能辅助评标, issue 15 item 8): pure checks of structured responses that
return findings with evidence for the experts; advisory only, they never change a score.
"""
