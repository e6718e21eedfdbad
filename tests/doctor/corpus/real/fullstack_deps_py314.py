# Origin: fastapi/full-stack-fastapi-template, backend/app/api/deps.py
# at 68adb40d37425f6f8668ec7e5a054500d045e43e. Licence: MIT. Reduced.
# Python 3.14 syntax (PEP 758): before 3.14 the doctor names the version it needs.
import jwt
from fastapi import HTTPException, status
from jwt.exceptions import InvalidTokenError
from pydantic import ValidationError


def get_current_user(token: str) -> dict:
    try:
        payload = jwt.decode(token, "secret", algorithms=["HS256"])
    except InvalidTokenError, ValidationError:  # expect: SMP000
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN)
    return payload
