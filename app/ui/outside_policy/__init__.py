"""The "Outside the policy" page: what identity providers sent that the policy does not hold, and the decisions."""
