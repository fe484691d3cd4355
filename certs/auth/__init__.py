"""Certificate login, QR-code login and electronic credentials (电子营业执照, 身份证电子证照)."""
