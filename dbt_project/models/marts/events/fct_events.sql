{{ config(
    materialized='incremental',
    incremental_strategy='gw_replace',
    unique_key=['project_id', 'event_uuid'],
    on_schema_change='fail',
    meta={'incremental': {'fingerprint': ['deletions', 'group_types', 'projects']}},
    post_hook="{{ gw_incremental_save_state(this) }}",
) }}
-- One row per event (project, uuid) after de-duplication, with its person (null for events of
-- group-only distinct ids, int_group_only_distinct_ids) and the key of its group of each type
-- index in `group_0` … `group_4` ('' when the event has no group of that type, as PostHog
-- stores it). Timestamps are UTC; `event_date` is the day in the project's time zone.
--
-- Incremental (docs/incremental.md). unique_key: (project_id, event_uuid).
-- Lookback: the events LOADED within var incremental_lookback_days before the newest loaded_at
-- of the last build.
-- Late-event policy: by load time only, so late events are taken whatever their timestamp.
-- Person merges: every run also recomputes the events of the distinct ids whose stored person_id
-- differs from int_person_distinct_ids (a merge, a late link, a distinct id becoming group-only),
-- however old. Deletions, the group type mapping and the projects' time zones are in the
-- fingerprint: a change recomputes and replaces the whole table.
-- depends_on: {{ ref('stg_warehouse__group_deletions') }}
-- depends_on: {{ ref('dim_group_types') }}
{%- set window = gw_incremental_window(this) %}
with

deduplicated_events as (

    select * from {{ ref('int_events_deduplicated') }}

),

event_groups as (

    select * from {{ ref('fct_event_groups') }}

),

person_distinct_ids as (

    select * from {{ ref('int_person_distinct_ids') }}

),

projects as (

    select * from {{ ref('stg_lake__projects') }}

),

stored_persons as (

    -- the person each stored distinct id had at the last build (none on a full build)
    select distinct
        project_id,
        distinct_id,
        person_id
    {%- if window.filtered %}
        from {{ this }}
    {%- else %}
        from person_distinct_ids
        where false
    {%- endif %}

),

changed_distinct_ids as (

    -- distinct ids whose person changed since the last build: their past events are recomputed
    select
        stored_persons.project_id,
        stored_persons.distinct_id

    from stored_persons
    left join person_distinct_ids
        on
            stored_persons.project_id = person_distinct_ids.project_id
            and stored_persons.distinct_id = person_distinct_ids.distinct_id
    where stored_persons.person_id is distinct from person_distinct_ids.person_id

),

events as (

    select deduplicated_events.*
    from deduplicated_events
    -- changed_distinct_ids is read by the where clause of incremental runs only
    left join changed_distinct_ids  -- noqa: ST11
        on
            deduplicated_events.project_id = changed_distinct_ids.project_id
            and deduplicated_events.distinct_id = changed_distinct_ids.distinct_id
    {%- if window.filtered %}
        where
            deduplicated_events.loaded_at >= {{ window.cutoff }}
            or changed_distinct_ids.distinct_id is not null
    {%- endif %}

),

groups_pivoted as (

    select
        event_groups.project_id,
        event_groups.event_uuid,
        max(case when event_groups.group_type_index = 0 then event_groups.group_key end) as group_0,
        max(case when event_groups.group_type_index = 1 then event_groups.group_key end) as group_1,
        max(case when event_groups.group_type_index = 2 then event_groups.group_key end) as group_2,
        max(case when event_groups.group_type_index = 3 then event_groups.group_key end) as group_3,
        max(case when event_groups.group_type_index = 4 then event_groups.group_key end) as group_4

    from event_groups
    inner join events
        on
            event_groups.project_id = events.project_id
            and event_groups.event_uuid = events.event_uuid
    group by event_groups.project_id, event_groups.event_uuid

),

final as (

    select
        -- keys
        events.event_uuid,
        events.project_id,

        -- foreign keys
        events.distinct_id,
        person_distinct_ids.person_id,
        coalesce(groups_pivoted.group_0, '') as group_0,
        coalesce(groups_pivoted.group_1, '') as group_1,
        coalesce(groups_pivoted.group_2, '') as group_2,
        coalesce(groups_pivoted.group_3, '') as group_3,
        coalesce(groups_pivoted.group_4, '') as group_4,

        -- attributes
        events.event_name as event,
        events.properties,

        -- timestamps
        events.event_at as timestamp,
        cast(
            {{ gw_to_local_timestamp('events.event_at', 'projects.project_timezone') }} as date
        ) as event_date,

        -- metadata
        events.received_at,
        events.loaded_at,
        events.source_name

    from events
    inner join projects
        on events.project_id = projects.project_id
    left join person_distinct_ids
        on
            events.project_id = person_distinct_ids.project_id
            and events.distinct_id = person_distinct_ids.distinct_id
    left join groups_pivoted
        on
            events.project_id = groups_pivoted.project_id
            and events.event_uuid = groups_pivoted.event_uuid

)

select * from final
