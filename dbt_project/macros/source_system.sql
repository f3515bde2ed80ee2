{#- The CRM the warehouse reads and the relations its contract-shaped tables come from (docs/sources.md).
    Documented in _macros.yml. -#}

{% macro source_system() -%}
    {%- set allowed = ['contract', 'wukong', 'salesforce'] -%}
    {%- set system = var('source_system', 'contract') | string | trim | lower -%}
    {%- if system == '' -%}
        {%- set system = 'contract' -%}
    {%- endif -%}
    {%- if system not in allowed -%}
        {{ exceptions.raise_compiler_error(
            "var source_system (CRM_SOURCE_SYSTEM) is '" ~ system ~ "', not a source system the warehouse maps;"
            ~ " use one of: " ~ allowed | join(', ')) }}
    {%- endif -%}
    {{- return(system) -}}
{%- endmacro %}


{#- A contract table (domain.md §1) as the shared staging models read it: the raw table itself when the CRM already
    has the contract's shape, else the system's contract-shaped model (models/staging/<system>/). marketing_spend has
    no counterpart in any CRM, nor fx_rates in 悟空CRM: they come from raw (file drops, possibly empty). Salesforce's
    rates are its own (stg_salesforce__fx_rates, which also takes the file drop's rows of currencies it has none for). -#}
{% macro crm_source(table_name) -%}
    {%- set file_drop_tables = ['marketing_spend'] if source_system() == 'salesforce' else ['fx_rates', 'marketing_spend'] -%}
    {%- if source_system() == 'contract' or table_name in file_drop_tables -%}
        {{- return(source('crm', table_name)) -}}
    {%- endif -%}
    {{- return(ref('stg_' ~ source_system() ~ '__' ~ table_name)) -}}
{%- endmacro %}


{#- The stage catalogue dim_stages and the funnel read: the seed for the contract, else the system's own stage list
    (with the seed as an override: stg_wukong__stage_catalogue). -#}
{% macro stage_catalogue() -%}
    {%- if source_system() == 'contract' -%}
        {{- return(ref('stage_catalogue')) -}}
    {%- endif -%}
    {{- return(ref('stg_' ~ source_system() ~ '__stage_catalogue')) -}}
{%- endmacro %}


{#- The one currency of a source system whose amounts carry none (悟空CRM): an ISO 4217 code, upper case. -#}
{% macro source_currency() -%}
    {%- set currency = var('source_currency', 'CNY') | string | trim | upper -%}
    {%- if not modules.re.match('^[A-Z]{3}$', currency) -%}
        {{ exceptions.raise_compiler_error(
            "var source_currency (CRM_SOURCE_CURRENCY) is '" ~ currency ~ "', not an ISO 4217 currency code;"
            ~ " use e.g. 'CNY'") }}
    {%- endif -%}
    {{- return(currency) -}}
{%- endmacro %}


{#- The zone a source system's local times are written in (悟空CRM stores them without one). -#}
{% macro source_timezone() -%}
    {%- set timezone = var('source_timezone', 'Asia/Shanghai') | string | trim -%}
    {%- if timezone == '' -%}
        {%- set timezone = 'Asia/Shanghai' -%}
    {%- endif -%}
    {%- if timezone not in modules.pytz.all_timezones -%}
        {{ exceptions.raise_compiler_error(
            "var source_timezone (CRM_SOURCE_TIMEZONE) is '" ~ timezone ~ "', not an IANA time zone name;"
            ~ " use e.g. 'Asia/Shanghai'") }}
    {%- endif -%}
    {{- return(timezone) -}}
{%- endmacro %}


{#- A naive local timestamp (wall-clock time in `timezone`, default source_timezone()) as a naive UTC timestamp.
    The inverse of to_reporting_date's conversion; daylight-saving gaps and overlaps resolve as each engine does. -#}
{% macro local_to_utc(timestamp_col, timezone=none) -%}
    {{ return(adapter.dispatch('local_to_utc')(timestamp_col, timezone or source_timezone())) }}
{%- endmacro %}

{#- DuckDB and Postgres: a naive timestamp AT TIME ZONE z is that wall-clock time in z (a timestamptz), and a
    timestamptz AT TIME ZONE 'UTC' is its naive UTC time. -#}
{% macro default__local_to_utc(timestamp_col, timezone) -%}
    {%- if timezone in ('UTC', 'Etc/UTC') -%}
        cast({{ timestamp_col }} as timestamp)
    {%- else -%}
        cast((cast({{ timestamp_col }} as timestamp) at time zone '{{ timezone }}') at time zone 'UTC' as timestamp)
    {%- endif -%}
{%- endmacro %}

{% macro spark__local_to_utc(timestamp_col, timezone) -%}
    {%- if timezone in ('UTC', 'Etc/UTC') -%}
        cast({{ timestamp_col }} as timestamp)
    {%- else -%}
        to_utc_timestamp(cast({{ timestamp_col }} as timestamp), '{{ timezone }}')
    {%- endif -%}
{%- endmacro %}


{#- 悟空CRM writes 0 for "no parent / no manager / none": the contract's null. -#}
{% macro zero_as_null(id_col) -%}
    case when {{ id_col }} = 0 then null else cast({{ id_col }} as bigint) end
{%- endmacro %}


{#- Pre-hook of stg_wukong__stage_catalogue: the stage group must be unambiguous. With CRM_WUKONG_STAGE_GROUP set, it
    must name a group; unset, exactly one group may be enabled. Checked on the data at run time. -#}
{% macro check_wukong_stage_group() -%}
    {%- if execute -%}
        {%- set wanted = var('wukong_stage_group', '') | string | trim -%}
        {%- set groups = run_query(
            "select trim(name), status from " ~ source('wukong', 'wk_crm_business_type') ~ " order by type_id"
        ) -%}
        {%- set all_names = groups.rows | map(attribute=0) | list -%}
        {%- set enabled_names = [] -%}
        {%- for row in groups.rows if row[1] == 1 -%}
            {%- do enabled_names.append(row[0]) -%}
        {%- endfor -%}
        {%- if wanted != '' and wanted not in all_names -%}
            {{ exceptions.raise_compiler_error(
                "var wukong_stage_group (CRM_WUKONG_STAGE_GROUP) is '" ~ wanted ~ "', but wk_crm_business_type has no"
                ~ " stage group of that name; its groups: " ~ (all_names | join(', ') or 'none')) }}
        {%- elif wanted == '' and enabled_names | length > 1 -%}
            {{ exceptions.raise_compiler_error(
                "wk_crm_business_type has " ~ enabled_names | length ~ " enabled stage groups (" ~ enabled_names | join(', ')
                ~ "): set CRM_WUKONG_STAGE_GROUP (var wukong_stage_group) to the one whose stages are the catalogue") }}
        {%- elif wanted == '' and enabled_names | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "wk_crm_business_type has no enabled stage group (status 1)"
                ~ (": its groups: " ~ all_names | join(', ') if all_names else "")
                ~ "; enable one in 悟空CRM or name it in CRM_WUKONG_STAGE_GROUP (var wukong_stage_group)") }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{#- The 悟空CRM customer custom field (wk_crm_customer_data.name) that holds the region, as a SQL string literal. -#}
{% macro wukong_region_field() -%}
    {%- set field = var('wukong_region_field', 'region') | string | trim -%}
    '{{ field | replace("'", "''") }}'
{%- endmacro %}


{#- The stage group named by var wukong_stage_group (CRM_WUKONG_STAGE_GROUP) as a SQL string literal; '' when unset. -#}
{% macro wukong_stage_group() -%}
    {%- set group = var('wukong_stage_group', '') | string | trim -%}
    '{{ group | replace("'", "''") }}'
{%- endmacro %}


{#- 悟空CRM custom-field rows (wk_crm_customer_data, wk_crm_return_visit_data): the current value of each field of
    each record (batch_id). 悟空CRM writes a record's field rows anew when it is edited, and raw reads these tables
    append-only, so until the weekly full refresh removes them raw can hold older rows of the same field: the newest
    (create_time, then id) wins. Values are trimmed; an empty value is null. -#}
{% macro wukong_latest_field_values(relation) -%}
    select
        batch_id,
        field_name,
        field_value,
        create_time,
        _load_id,
        _loaded_at
    from (
        select
            batch_id,
            trim(name)                  as field_name,
            nullif(trim(value), '')     as field_value,
            create_time,
            _load_id,
            _loaded_at,
            row_number() over (
                partition by batch_id, trim(name) order by create_time desc, id desc
            )                           as version_rank
        from {{ relation }}
        where batch_id is not null
    ) as versions
    where version_rank = 1
{%- endmacro %}


{#- 悟空CRM's approval states that make a contract, payment or invoice count: 1 approved, 10 approved (no approval
    flow configured). Every other check_status (pending, rejected, withdrawn, voided, ...) counts nowhere. -#}
{% macro wukong_is_approved(check_status_col) -%}
    coalesce({{ check_status_col }} in (1, 10), false)
{%- endmacro %}


{#- When 悟空CRM last changed a row, in UTC: update_time, null until the first edit, else create_time. -#}
{% macro wukong_changed_at(relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    {{ local_to_utc('coalesce(' ~ prefix ~ 'update_time, ' ~ prefix ~ 'create_time)') }}
{%- endmacro %}
