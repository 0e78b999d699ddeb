from django import forms


class OtpTokenForm(forms.Form):
    """A six-digit authenticator code or a backup code."""

    token = forms.CharField(
        label="Verification code",
        min_length=6,
        max_length=16,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].replace(" ", "").replace("-", "")
