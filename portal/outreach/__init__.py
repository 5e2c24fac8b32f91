from portal.outreach.views import bp

__all__ = ["bp"]
