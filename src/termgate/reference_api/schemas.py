"""JSON Schemas (OpenAPI 3.1) of the records the routes answer with and accept."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
DATE: Schema = {"type": "string", "format": "date"}
UUID: Schema = {"type": "string", "format": "uuid"}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]} if "type" in schema else schema


def obj(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    required = [name for name in properties if name not in optional]
    return {"type": "object", "properties": properties, "required": required}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


_ADDRESS_FIELDS: dict[str, Schema] = {
    "street": STRING,
    "houseNumber": INTEGER,
    "houseNumberAddition": nullable(STRING),
    "postalCode": {"type": "string", "pattern": "^[1-9][0-9]{3} [A-Z]{2}$"},
    "city": STRING,
    "country": {"type": "string", "description": "ISO 3166-1 alpha-2"},
}
_MONEY = ref("Money")
_PERSON: dict[str, Schema] = {
    "firstName": STRING,
    "initials": STRING,
    "prefix": nullable(STRING),
    "lastName": STRING,
    "dateOfBirth": DATE,
    "gender": enum("male", "female", "other", "unknown"),
}

SCHEMAS: dict[str, Schema] = {
    "Money": obj({"amount": NUMBER, "currency": enum("EUR")}),
    "PostalAddress": obj(_ADDRESS_FIELDS),
    "Pagination": obj(
        {"pageNumber": INTEGER, "pageSize": INTEGER, "totalPages": INTEGER, "totalRecords": INTEGER}
    ),
    "InvalidParam": obj({"name": STRING, "reason": STRING}),
    "Problem": obj(
        {
            "type": STRING,
            "title": STRING,
            "status": INTEGER,
            "detail": STRING,
            "code": INTEGER,
            "clause": STRING,
            "instance": STRING,
            "invalid-params": {"type": "array", "items": ref("InvalidParam")},
        },
        optional=("instance", "invalid-params"),
    ),
    "UserInfo": obj(
        {
            "id": INTEGER,
            "username": STRING,
            "email": STRING,
            "displayName": STRING,
            "debtorIds": {"type": "array", "items": INTEGER},
        }
    ),
    "Debtor": obj(
        {
            "id": INTEGER,
            "debtorNumber": STRING,
            "name": STRING,
            "email": STRING,
            "phoneNumber": STRING,
            "address": ref("PostalAddress"),
            "customerSince": DATE,
        }
    ),
    "Company": obj(
        {
            "id": INTEGER,
            "debtorId": INTEGER,
            "name": STRING,
            "chamberOfCommerceNumber": STRING,
            "payrollTaxNumber": STRING,
            "sector": STRING,
            "address": ref("PostalAddress"),
            "employeeCount": INTEGER,
        }
    ),
    "PayrollSettings": obj(
        {
            "companyId": INTEGER,
            "payrollPeriod": enum("month", "four-weeks"),
            "payDay": INTEGER,
            "collectiveAgreement": STRING,
            "holidayAllowancePercentage": NUMBER,
            "holidayAllowanceMonth": INTEGER,
            "pensionFund": STRING,
            "wageTaxTable": STRING,
            "currency": STRING,
        }
    ),
    "Employee": obj(
        {
            "id": INTEGER,
            "companyId": INTEGER,
            "employeeNumber": INTEGER,
            **_PERSON,
            "formattedName": STRING,
            "email": STRING,
            "startDate": DATE,
            "employmentStatus": enum("active", "terminated"),
        }
    ),
    "PersonalInfo": obj(
        {
            "employeeId": INTEGER,
            **_PERSON,
            "formattedName": STRING,
            "nationality": STRING,
            "citizenServiceNumber": {"type": "string", "pattern": "^[0-9]{9}$"},
            "email": STRING,
            "phoneNumber": STRING,
        }
    ),
    "PersonalInfoUpdate": obj(
        {
            **_PERSON,
            "nationality": STRING,
            "citizenServiceNumber": STRING,
            "email": STRING,
            "phoneNumber": STRING,
        },
        optional=(
            "initials",
            "prefix",
            "nationality",
            "citizenServiceNumber",
            "email",
            "phoneNumber",
        ),
    ),
    "Address": obj(
        {
            "id": UUID,
            "employeeId": INTEGER,
            "type": enum("home"),
            **_ADDRESS_FIELDS,
            "startDate": DATE,
            "endDate": nullable(DATE),
        }
    ),
    "Employment": obj(
        {
            "id": UUID,
            "employeeId": INTEGER,
            "companyId": INTEGER,
            "startDate": DATE,
            "endDate": nullable(DATE),
            "jobTitle": STRING,
            "contractType": enum("permanent", "fixed-term"),
            "hoursPerWeek": INTEGER,
            "collectiveAgreement": STRING,
            "payrollPeriod": STRING,
        }
    ),
    "Salary": obj(
        {
            "id": UUID,
            "employeeId": INTEGER,
            "employmentId": UUID,
            "startDate": DATE,
            "endDate": nullable(DATE),
            "type": enum("monthly"),
            "grossAmount": _MONEY,
            "fullTimeGrossAmount": _MONEY,
        }
    ),
    "Payment": obj(
        {
            "id": UUID,
            "employeeId": INTEGER,
            "period": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
            "paymentDate": DATE,
            "grossAmount": _MONEY,
            "netAmount": _MONEY,
            "wageTax": _MONEY,
        }
    ),
    "BankAccount": obj(
        {
            "id": UUID,
            "employeeId": INTEGER,
            "iban": {"type": "string", "pattern": "^NL[0-9]{2}[A-Z]{4}[0-9]{10}$"},
            "bic": STRING,
            "accountHolder": STRING,
            "isPrimary": BOOLEAN,
            "purpose": STRING,
        }
    ),
    "Leave": obj(
        {
            "id": UUID,
            "employeeId": INTEGER,
            "leaveType": STRING,
            "startDate": DATE,
            "endDate": DATE,
            "hours": NUMBER,
            "status": enum("approved", "requested"),
            "comment": nullable(STRING),
        }
    ),
    "LeaveRequest": obj(
        {
            "leaveType": enum("statutory", "extra-statutory", "special", "unpaid"),
            "startDate": DATE,
            "endDate": DATE,
            "hours": NUMBER,
            "comment": nullable(STRING),
        },
        optional=("comment",),
    ),
    "LeaveBalance": obj(
        {
            "employeeId": INTEGER,
            "year": INTEGER,
            "leaveType": STRING,
            "entitlementHours": NUMBER,
            "takenHours": NUMBER,
            "balanceHours": NUMBER,
        }
    ),
    "Document": obj(
        {
            "id": UUID,
            "employeeId": INTEGER,
            "category": enum("contract", "payslip"),
            "title": STRING,
            "fileName": STRING,
            "contentType": STRING,
            "size": INTEGER,
            "createdAt": {"type": "string", "format": "date-time"},
        }
    ),
}
