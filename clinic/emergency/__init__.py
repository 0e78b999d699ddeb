"""Emergency ("break-glass") access: 45 CFR 164.312(a)(2)(ii) emergency access procedure."""
