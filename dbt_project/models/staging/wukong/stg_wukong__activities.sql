-- 悟空CRM's follow-ups (wk_crm_activity of type 1) as the contract's activities (docs/sources.md). A follow-up is about
-- a customer (activity_type 2), a contact (3), an opportunity (5) or a contract (6): its customer is that one, or
-- the contact's, the opportunity's or the contract's; one about an opportunity also names it. Follow-ups of a lead
-- (1, not yet a customer) or of anything else, and 悟空CRM's own records (type 3), are not activities. One that is
-- not valid (status other than 1) is kept flagged deleted. activity_type is the category in English where 悟空CRM's
-- shipped categories have a contract word, else the category as written. Since the customer comes from the linked
-- record, updated_at and _loaded_at are the newest of the follow-up's and that record's.
with follow_ups as (
    select * from {{ source('wukong', 'wk_crm_activity') }}
    where type = 1
      and activity_type in (2, 3, 5, 6)
),

contacts as (
    select * from {{ source('wukong', 'wk_crm_contacts') }}
),

businesses as (
    select * from {{ source('wukong', 'wk_crm_business') }}
),

contracts as (
    select * from {{ source('wukong', 'wk_crm_contract') }}
),

linked as (
    select
        follow_ups.*,
        case follow_ups.activity_type
            when 2 then follow_ups.activity_type_id
            when 3 then contacts.customer_id
            when 5 then businesses.customer_id
            when 6 then contracts.customer_id
        end                                                   as linked_customer_id,
        coalesce(
            {{ wukong_changed_at('contacts') }},
            {{ wukong_changed_at('businesses') }},
            {{ wukong_changed_at('contracts') }}
        )                                                     as linked_changed_at,
        coalesce(contacts._loaded_at, businesses._loaded_at, contracts._loaded_at) as linked_loaded_at
    from follow_ups
    left join contacts
        on follow_ups.activity_type = 3
        and follow_ups.activity_type_id = contacts.contacts_id
    left join businesses
        on follow_ups.activity_type = 5
        and follow_ups.activity_type_id = businesses.business_id
    left join contracts
        on follow_ups.activity_type = 6
        and follow_ups.activity_type_id = contracts.contract_id
),

final as (
    select
        cast(activity_id as bigint)                                          as activity_id,
        cast(linked_customer_id as bigint)                                   as customer_id,
        cast(case when activity_type = 5 then activity_type_id end as bigint) as opportunity_id,
        cast(create_user_id as bigint)                                       as user_id,
        cast(case trim(category)
            when '打电话' then 'call'
            when '发邮件' then 'email'
            when '发短信' then 'message'
            when '见面拜访' then 'visit'
            when '活动' then 'meeting'
            else trim(category)
        end as {{ dbt.type_string() }})                                          as activity_type,
        {{ local_to_utc('create_time') }}                                    as occurred_at,
        coalesce(status, 0) <> 1                                             as is_deleted,
        greatest({{ local_to_utc('create_time') }}, linked_changed_at)       as updated_at,
        cast(_load_id as {{ dbt.type_string() }})                                as _load_id,
        greatest(_loaded_at, linked_loaded_at)                               as _loaded_at
    from linked
)

select * from final
