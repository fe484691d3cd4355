"""The online intermediary-services marketplace (网上中介超市): service items, qualifications,
selection announcements with their four selection methods, and intermediaries' credit.
"""
