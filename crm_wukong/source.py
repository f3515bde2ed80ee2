"""Tables, keys, watermarks and the mapped columns of 悟空CRM 11's MySQL schema (`wk_` tables).

Watermarks follow sources.md: tables with `update_time` are read on `coalesce(update_time, create_time)`
(悟空CRM leaves update_time null until a record is first edited); append-only tables on `create_time`;
tables without either, and the small lookup tables, whole on every run. Whole reads are full refreshes, so
the children 悟空CRM hard-deletes (product lines are deleted and re-inserted on every edit of an
opportunity) leave raw on the next run; the incremental ones leave it on the weekly full refresh.

Times are local, without a zone (CRM_SOURCE_TIMEZONE): raw keeps them as the CRM wrote them and the dbt
mapping converts them to UTC.
"""

from __future__ import annotations

from crm_contract.source import Column, ColumnType, SourceTable, find_table

EDITED = ("update_time", "create_time")  # coalesced: update_time is null until the first edit
APPENDED = ("create_time",)
WHOLE: tuple[str, ...] = ()


def _table(name: str, primary_key: str, watermark: tuple[str, ...], *columns: tuple[str, ColumnType]) -> SourceTable:
    return SourceTable(
        name=name,
        primary_key=(primary_key,),
        columns=tuple(Column(n, t) for n, t in columns),
        watermark=watermark,
    )


SOURCE_TABLES: tuple[SourceTable, ...] = (
    _table(
        "wk_admin_dept",
        "dept_id",
        WHOLE,
        ("dept_id", "integer"),
        ("pid", "integer"),  # the parent department; 0 means none
        ("name", "text"),
    ),
    _table(
        "wk_admin_user",
        "user_id",
        WHOLE,
        ("user_id", "integer"),
        ("realname", "text"),
        ("email", "text"),
        ("dept_id", "integer"),
        ("parent_id", "integer"),  # the manager; 0 means none
        ("status", "integer"),  # 1 active
        ("is_del", "integer"),  # 1 deleted
        ("create_time", "timestamp"),
    ),
    _table(
        "wk_crm_customer",
        "customer_id",
        EDITED,
        ("customer_id", "integer"),
        ("customer_name", "text"),
        ("owner_user_id", "integer"),  # null: in the public pool
        ("address", "text"),  # 'province,city,district'
        ("status", "integer"),  # 3 deleted
        ("batch_id", "text"),  # joins the customer's custom-field rows
        ("create_time", "timestamp"),
        ("update_time", "timestamp"),
    ),
    _table(
        "wk_crm_customer_data",  # a customer's custom-field values, one row per field
        "id",
        APPENDED,
        ("id", "integer"),
        ("field_id", "integer"),
        ("name", "text"),  # the field's field_name: industry, level, source, region, ...
        ("value", "text"),
        ("batch_id", "text"),
        ("create_time", "timestamp"),
    ),
    _table(
        "wk_crm_contacts",
        "contacts_id",
        EDITED,
        ("contacts_id", "integer"),
        ("customer_id", "integer"),
        ("name", "text"),
        ("post", "text"),
        ("email", "text"),
        ("mobile", "text"),
        ("telephone", "text"),
        ("create_time", "timestamp"),
        ("update_time", "timestamp"),
    ),
    _table(
        "wk_crm_product",
        "product_id",
        EDITED,
        ("product_id", "integer"),
        ("name", "text"),
        ("category_id", "integer"),
        ("price", "money"),
        ("status", "integer"),  # 1 on sale, 3 deleted
        ("create_time", "timestamp"),
        ("update_time", "timestamp"),
    ),
    _table(
        "wk_crm_product_category",
        "category_id",
        WHOLE,
        ("category_id", "integer"),
        ("name", "text"),
        ("pid", "integer"),
    ),
    _table(
        "wk_crm_business_type",  # a stage group (商机组)
        "type_id",
        WHOLE,
        ("type_id", "integer"),
        ("name", "text"),
        ("status", "integer"),  # 1 enabled
    ),
    _table(
        "wk_crm_business_status",  # a stage of a stage group
        "status_id",
        WHOLE,
        ("status_id", "integer"),
        ("type_id", "integer"),
        ("name", "text"),
        ("rate", "text"),  # the win probability in percent, as text: '20'
        ("order_num", "integer"),
    ),
    _table(
        "wk_crm_business",  # an opportunity (商机)
        "business_id",
        EDITED,
        ("business_id", "integer"),
        ("type_id", "integer"),
        ("status_id", "integer"),
        ("customer_id", "integer"),
        ("business_name", "text"),
        ("money", "money"),
        ("deal_date", "timestamp"),  # the expected close date
        ("is_end", "integer"),  # 0 open, 1 won, 2 lost, 3 invalid
        ("status_remark", "text"),
        ("status", "integer"),  # 3 deleted
        ("create_user_id", "integer"),
        ("owner_user_id", "integer"),
        ("create_time", "timestamp"),
        ("update_time", "timestamp"),
    ),
    _table(
        "wk_crm_business_change",  # a stage advance; none at creation, none at closing
        "change_id",
        APPENDED,
        ("change_id", "integer"),
        ("business_id", "integer"),
        ("status_id", "integer"),
        ("create_user_id", "integer"),
        ("create_time", "timestamp"),
    ),
    _table(
        "wk_crm_business_product",  # an opportunity's product line; no timestamps: read whole
        "r_id",
        WHOLE,
        ("r_id", "integer"),
        ("business_id", "integer"),
        ("product_id", "integer"),
        ("price", "money"),  # the list price
        ("sales_price", "money"),  # the unit price after the line's discount
        ("num", "money"),  # the quantity (a decimal in 悟空CRM)
    ),
    _table(
        "wk_crm_contract",
        "contract_id",
        EDITED,
        ("contract_id", "integer"),
        ("num", "text"),  # the contract number
        ("customer_id", "integer"),
        ("business_id", "integer"),
        ("check_status", "integer"),  # 1 or 10: approved; anything else is not a signed contract
        ("order_date", "timestamp"),  # signed
        ("start_time", "timestamp"),
        ("end_time", "timestamp"),
        ("money", "money"),
        ("owner_user_id", "integer"),
        ("create_time", "timestamp"),
        ("update_time", "timestamp"),
    ),
    _table(
        "wk_crm_receivables_plan",  # a payment plan's installment
        "receivables_plan_id",
        EDITED,
        ("receivables_plan_id", "integer"),
        ("num", "text"),  # the installment number, as text
        ("contract_id", "integer"),
        ("customer_id", "integer"),
        ("money", "money"),
        ("return_date", "timestamp"),  # due
        ("received_status", "integer"),  # 3 voided
        ("create_time", "timestamp"),
        ("update_time", "timestamp"),
    ),
    _table(
        "wk_crm_receivables",  # a payment received
        "receivables_id",
        EDITED,
        ("receivables_id", "integer"),
        ("receivables_plan_id", "integer"),
        ("contract_id", "integer"),
        ("customer_id", "integer"),
        ("check_status", "integer"),
        ("return_time", "date"),  # paid
        ("return_type", "text"),  # the payment method
        ("money", "money"),
        ("create_time", "timestamp"),
        ("update_time", "timestamp"),
    ),
    _table(
        "wk_crm_invoice",
        "invoice_id",
        EDITED,
        ("invoice_id", "integer"),
        ("contract_id", "integer"),
        ("invoice_money", "money"),
        ("invoice_date", "date"),
        ("real_invoice_date", "date"),
        ("check_status", "integer"),
        ("create_time", "timestamp"),
        ("update_time", "timestamp"),
    ),
    _table(
        "wk_crm_activity",  # a follow-up record (跟进记录) and the system's own records
        "activity_id",
        APPENDED,
        ("activity_id", "integer"),
        ("type", "integer"),  # 1 a follow-up; 3 written by a stage change or closing
        ("category", "text"),  # 打电话, 发邮件, 发短信, 见面拜访, 活动, ...
        ("activity_type", "integer"),  # what it is about: 1 lead, 2 customer, 3 contact, 5 opportunity, 6 contract
        ("activity_type_id", "integer"),
        ("content", "text"),
        ("status", "integer"),  # 1 valid
        ("create_user_id", "integer"),
        ("create_time", "timestamp"),
    ),
    _table(
        "wk_crm_achievement",  # yearly targets, one column per month
        "achievement_id",
        WHOLE,
        ("achievement_id", "integer"),
        ("obj_id", "integer"),
        ("type", "integer"),  # 1 company, 2 department, 3 person
        ("year", "text"),
        ("status", "integer"),  # 1 contract amount, 2 payment amount
        ("january", "money"),
        ("february", "money"),
        ("march", "money"),
        ("april", "money"),
        ("may", "money"),
        ("june", "money"),
        ("july", "money"),
        ("august", "money"),
        ("september", "money"),
        ("october", "money"),
        ("november", "money"),
        ("december", "money"),
    ),
    _table(
        "wk_crm_return_visit",  # a customer satisfaction visit (回访)
        "visit_id",
        EDITED,
        ("visit_id", "integer"),
        ("customer_id", "integer"),
        ("contract_id", "integer"),
        ("owner_user_id", "integer"),
        ("visit_time", "timestamp"),
        ("batch_id", "text"),
        ("create_time", "timestamp"),
        ("update_time", "timestamp"),
    ),
    _table(
        "wk_crm_return_visit_data",  # a visit's custom-field values; `satisficing` holds the satisfaction word
        "id",
        APPENDED,
        ("id", "integer"),
        ("field_id", "integer"),
        ("name", "text"),
        ("value", "text"),
        ("batch_id", "text"),
        ("create_time", "timestamp"),
    ),
)


def source_table(name: str) -> SourceTable:
    return find_table(SOURCE_TABLES, name, "a 悟空CRM table the extract reads")
