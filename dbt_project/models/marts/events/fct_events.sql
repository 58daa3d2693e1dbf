-- One row per event (project, uuid) after de-duplication, with its person (null for events of
-- group-only distinct ids, int_group_only_distinct_ids) and the key of its group of each type
-- index in `group_0` … `group_4` ('' when the event has no group of that type, as PostHog
-- stores it). Timestamps are UTC; `event_date` is the day in the project's time zone.
with

events as (

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

groups_pivoted as (

    select
        project_id,
        event_uuid,
        max(case when group_type_index = 0 then group_key end) as group_0,
        max(case when group_type_index = 1 then group_key end) as group_1,
        max(case when group_type_index = 2 then group_key end) as group_2,
        max(case when group_type_index = 3 then group_key end) as group_3,
        max(case when group_type_index = 4 then group_key end) as group_4

    from event_groups
    group by project_id, event_uuid

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
