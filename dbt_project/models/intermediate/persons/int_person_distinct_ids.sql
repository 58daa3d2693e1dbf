-- One row per (project, distinct_id) with the person it belongs to. `$identify` events link the
-- anonymous id (`properties.$anon_distinct_id`) to the identified distinct id; the person id is
-- the identified distinct id, else the distinct id itself.
with

events as (

    select * from {{ ref('int_events_deduplicated') }}

),

distinct_ids as (

    select distinct
        project_id,
        distinct_id
    from events

),

identify_links as (

    select
        project_id,
        {{ gw_json_text('properties', '$anon_distinct_id') }} as anonymous_distinct_id,
        distinct_id as identified_distinct_id,
        row_number() over (
            partition by project_id, {{ gw_json_text('properties', '$anon_distinct_id') }}
            order by event_at, loaded_at, source_name, source_row, event_uuid
        ) as link_number

    from events
    where event_name = '$identify'

),

first_links as (

    select
        project_id,
        anonymous_distinct_id,
        identified_distinct_id
    from identify_links
    where link_number = 1 and anonymous_distinct_id is not null and anonymous_distinct_id <> ''

),

final as (

    select
        distinct_ids.project_id,
        distinct_ids.distinct_id,
        coalesce(first_links.identified_distinct_id, distinct_ids.distinct_id) as person_id

    from distinct_ids
    left join first_links
        on
            distinct_ids.project_id = first_links.project_id
            and distinct_ids.distinct_id = first_links.anonymous_distinct_id

)

select * from final
