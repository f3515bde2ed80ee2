{#- Salesforce as a sync tool lands it (docs/sources.md, section Salesforce). Documented in _macros.yml. -#}

{#- The contract's integer key of a Salesforce id (18-character text): the first 15 hex digits of md5(id) read as a
    number, 0 to 2^60 − 1, the same on every engine, run and full refresh. An empty id is no id (null). -#}
{% macro source_id_key(column) -%}
    {{ return(adapter.dispatch('source_id_key')(column)) }}
{%- endmacro %}

{% macro default__source_id_key(column) -%}
    cast('0x' || substr(md5(nullif(trim({{ column }}), '')), 1, 15) as bigint)
{%- endmacro %}

{% macro postgres__source_id_key(column) -%}
    cast(cast('x' || lpad(substr(md5(nullif(trim({{ column }}), '')), 1, 15), 16, '0') as bit(64)) as bigint)
{%- endmacro %}

{% macro spark__source_id_key(column) -%}
    cast(conv(substr(md5(nullif(trim({{ column }}), '')), 1, 15), 16, 10) as bigint)
{%- endmacro %}


{#- When the sync last wrote the row: `_fivetran_synced`, else Salesforce's own `system_modstamp` (a table synced
    without the sync's column: crm_salesforce/source.py reads it on system_modstamp, and raw keeps _fivetran_synced
    null). The row's updated_at and the order of its versions. -#}
{% macro salesforce_synced_at(relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    coalesce({{ prefix }}_fivetran_synced, {{ prefix }}system_modstamp)
{%- endmacro %}


{#- A Salesforce row counts nowhere when Salesforce deleted it (is_deleted, in the recycle bin) or the sync saw it
    disappear (_fivetran_deleted). Objects without is_deleted (user, user_role, ...) pass has_is_deleted=false. -#}
{% macro salesforce_is_deleted(relation_alias=none, has_is_deleted=true) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    (coalesce({{ prefix }}_fivetran_deleted, false)
    {%- if has_is_deleted %} or coalesce({{ prefix }}is_deleted, false){% endif %})
{%- endmacro %}


{#- A Salesforce calendar date (close_date, activity_date) as the contract's UTC timestamp: its 00:00 UTC. -#}
{% macro salesforce_date_start(date_col) -%}
    cast(cast({{ date_col }} as date) as timestamp)
{%- endmacro %}


{#- The synced opportunity column holding the loss reason (var salesforce_loss_reason_field, from
    CRM_SALESFORCE_LOSS_REASON_FIELD), as a column reference; none when unset. Only a plain column name is taken:
    anything else (quotes, spaces, an expression) stops the compilation naming the setting. -#}
{% macro salesforce_loss_reason_field() -%}
    {%- set field = var('salesforce_loss_reason_field', '') | string | trim | lower -%}
    {%- if field == '' -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- if not modules.re.match('^[a-z_][a-z0-9_]*$', field) -%}
        {{ exceptions.raise_compiler_error(
            "var salesforce_loss_reason_field (CRM_SALESFORCE_LOSS_REASON_FIELD) is '" ~ field ~ "', not a column name"
            ~ " of the synced opportunity table; use the column's name as synced, e.g. loss_reason_c") }}
    {%- endif -%}
    {{- return(field) -}}
{%- endmacro %}


{#- Post-hook of stg_salesforce__source_ids (relation: that model, by default `this`): two Salesforce ids of one
    entity with the same integer key would merge two records. Stops the build naming the object and both ids (checked
    on the data at run time). -#}
{% macro check_source_id_collisions(relation=none) -%}
    {%- set relation = relation or this -%}
    {%- if execute -%}
        {%- set collisions = run_query(
            "select entity, min(salesforce_object) || case when min(salesforce_object) <> max(salesforce_object)"
            ~ " then '/' || max(salesforce_object) else '' end, min(source_id), max(source_id), source_key from " ~ relation
            ~ " group by entity, source_key having count(distinct source_id) > 1"
            ~ " order by entity, source_key limit 5"
        ) -%}
        {%- if collisions.rows | length > 0 -%}
            {%- set described = [] -%}
            {%- for row in collisions.rows -%}
                {%- do described.append(row[1] ~ " ids " ~ row[2] ~ " and " ~ row[3] ~ " (" ~ row[0] ~ " key " ~ row[4] ~ ")") -%}
            {%- endfor -%}
            {{ exceptions.raise_compiler_error(
                "Salesforce id collision: two ids derive the same integer key (macro source_id_key), which would merge"
                ~ " two records: " ~ described | join('; ')
                ~ ". Report it; until fixed, remove or merge one of the records in Salesforce.") }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{#- The Salesforce id (text) of a published row, its `<entity>_source_id` (docs/bi-guide.md): in salesforce mode
    the id the key was derived from, through source_id_join's alias; with the other systems the key itself as text.
    entity is one of the entities of stg_salesforce__source_ids (customer, user, product, opportunity). -#}
{% macro source_id_column(entity, key_expr, alias) -%}
    {%- if reads_salesforce_source_ids() -%}
        cast({{ alias }}.source_id as {{ dbt.type_string() }})
    {%- else -%}
        cast({{ key_expr }} as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{% macro source_id_join(entity, key_expr, alias) -%}
    {%- if reads_salesforce_source_ids() -%}
    left join {{ ref('stg_salesforce__source_ids') }} as {{ alias }}
        on {{ alias }}.entity = '{{ entity }}'
        and {{ alias }}.source_key = {{ key_expr }}
    {%- endif -%}
{%- endmacro %}

{#- Whether a published model reads its *_source_id columns from stg_salesforce__source_ids: in salesforce mode,
    except in the shared models' unit tests (their worked examples give the contract's inputs only; there the key
    as text stands in). -#}
{% macro reads_salesforce_source_ids() -%}
    {{ return(source_system() == 'salesforce' and model is mapping and model.get('resource_type') != 'unit_test') }}
{%- endmacro %}
