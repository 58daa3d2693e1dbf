-- One row per (project, distinct id) whose events count for groups but never as a person
-- (docs/persons.md, "Group-only distinct ids"):
--   configured:     listed in var group_only_distinct_ids (PostHog's "static distinct id" for
--                   group events without a user; default ['$posthog_group_only']);
--   group_identify: the id the server SDKs give `$groupidentify`, `$<group_type>_<group_key>`
--                   of the group the event identifies (a browser's `$groupidentify` carries the
--                   user's own distinct id and stays a person's).
{%- set configured_ids = var('group_only_distinct_ids') %}
with

events as (

    select * from {{ ref('int_events_deduplicated') }}

),

projects as (

    select distinct project_id
    from events

),

configured_ids as (

    {%- if configured_ids | length > 0 %}
        {%- for distinct_id in configured_ids %}
            select {{ gw_string_literal(distinct_id) }} as distinct_id
            {{- "\n            union all" if not loop.last }}
        {%- endfor %}
    {%- else %}
        select cast(null as {{ dbt.type_string() }}) as distinct_id
        where false
    {%- endif %}

),

configured as (

    -- every configured id in every project, whether or not it sent an event there yet
    select
        projects.project_id,
        configured_ids.distinct_id,
        'configured' as group_only_rule

    from projects
    cross join configured_ids

),

server_group_identifies as (

    select distinct
        project_id,
        distinct_id,
        'group_identify' as group_only_rule

    from events
    where
        {{ gw_is_group_identify() }}
        and distinct_id = '$' || identified_group_type || '_' || identified_group_key

),

both_rules as (

    select * from configured
    union all
    select * from server_group_identifies

),

final as (

    -- an id matched by both rules is reported once, as configured
    select
        project_id,
        distinct_id,
        min(group_only_rule) as group_only_rule

    from both_rules
    group by project_id, distinct_id

)

select * from final
