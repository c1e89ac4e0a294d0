"""The Intune side of an eSIM rollout: the static group, the eSIM settings-catalog policy, its assignment.

``setup`` plans (and, asked to, makes) these through Graph; ``server`` checks the operator's
SM-DP+ address before any call; ``catalog`` reads the eSIM setting definitions from the tenant.
"""
