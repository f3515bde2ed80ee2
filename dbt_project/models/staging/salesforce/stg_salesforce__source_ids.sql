-- Every Salesforce id the mapping turns into a contract key, with that key (macro source_id_key), one row per object
-- and id: the published dims and facts read it for their *_source_id columns (macro source_id_join), and the
-- post-hook stops the build when two ids of one object derive the same key (naming both). entity is the contract's
-- name for what the id keys (customer, opportunity, ...); salesforce_object the synced table.
{{ config(post_hook="{{ check_source_id_collisions() }}") }}

{%- set keyed = [
    ('department', 'user_role'),
    ('user', 'user'),
    ('customer', 'account'),
    ('contact', 'contact'),
    ('product', 'product_2'),
    ('opportunity', 'opportunity'),
    ('stage_change', 'opportunity_history'),
    ('activity', 'task'),
    ('activity', 'event'),
] %}

with ids as (
    {%- for entity, salesforce_object in keyed %}
    select distinct
        '{{ entity }}'              as entity,
        '{{ salesforce_object }}'   as salesforce_object,
        trim(id)                    as source_id
    from {{ source('salesforce', salesforce_object) }}
    where nullif(trim(id), '') is not null
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast(entity as {{ dbt.type_string() }})             as entity,
        cast(salesforce_object as {{ dbt.type_string() }})  as salesforce_object,
        cast(source_id as {{ dbt.type_string() }})          as source_id,
        {{ source_id_key('source_id') }}                    as source_key
    from ids
)

select * from final
