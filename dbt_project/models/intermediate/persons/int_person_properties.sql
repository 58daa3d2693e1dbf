-- One row per person with the properties folded from the `$set` / `$set_once` of the events of
-- all its distinct ids (top level or in properties: the loader lifted both into person_set and
-- person_set_once), as if they had always been one person. Events apply in event-time order
-- (ties: landing order, then uuid):
--   `$set`:      the last value sent wins;
--   `$set_once`: applies only while the property is unset, so the first value wins, and a
--                property that any `$set` ever sent takes the `$set` value.
-- Within one event `$set` wins over `$set_once`, and a key repeated in one object keeps its
-- last value. Events of group-only distinct ids never reach a person.
with

events as (

    select * from {{ ref('int_events_deduplicated') }}

),

person_distinct_ids as (

    select * from {{ ref('int_person_distinct_ids') }}

),

person_events as (

    select
        person_distinct_ids.person_id,
        events.project_id,
        events.event_uuid,
        events.person_set,
        events.person_set_once,
        events.event_at,
        events.loaded_at,
        events.source_name,
        events.source_row

    from events
    inner join person_distinct_ids
        on
            events.project_id = person_distinct_ids.project_id
            and events.distinct_id = person_distinct_ids.distinct_id
    where events.person_set is not null or events.person_set_once is not null

),

set_entries as (

    select
        person_events.project_id,
        person_events.person_id,
        property_entry.key as property_key,
        property_entry.value as property_value,
        person_events.event_at,
        row_number() over (
            partition by person_events.project_id, person_events.person_id, property_entry.key
            order by
                person_events.event_at desc,
                person_events.loaded_at desc,
                person_events.source_name desc,
                person_events.source_row desc,
                person_events.event_uuid desc,
                property_entry.id desc
        ) as recency_rank

    from person_events
    cross join {{ gw_json_each('person_events.person_set') }} as property_entry
    where person_events.person_set is not null and property_entry.key is not null

),

set_once_entries as (

    select
        person_events.project_id,
        person_events.person_id,
        property_entry.key as property_key,
        property_entry.value as property_value,
        person_events.event_at,
        row_number() over (
            partition by person_events.project_id, person_events.person_id, property_entry.key
            order by
                person_events.event_at asc,
                person_events.loaded_at asc,
                person_events.source_name asc,
                person_events.source_row asc,
                person_events.event_uuid asc,
                property_entry.id desc
        ) as earliness_rank

    from person_events
    cross join {{ gw_json_each('person_events.person_set_once') }} as property_entry
    where person_events.person_set_once is not null and property_entry.key is not null

),

last_set as (

    select
        project_id,
        person_id,
        property_key,
        property_value,
        event_at

    from set_entries
    where recency_rank = 1

),

first_set_once as (

    select
        set_once_entries.project_id,
        set_once_entries.person_id,
        set_once_entries.property_key,
        set_once_entries.property_value,
        set_once_entries.event_at

    from set_once_entries
    left join last_set
        on
            set_once_entries.project_id = last_set.project_id
            and set_once_entries.person_id = last_set.person_id
            and set_once_entries.property_key = last_set.property_key
    where set_once_entries.earliness_rank = 1 and last_set.property_key is null

),

folded_entries as (

    select * from last_set
    union all
    select * from first_set_once

),

final as (

    select
        project_id,
        person_id,
        {{ gw_json_object_agg('property_key', 'property_value') }} as properties,
        max(event_at) as properties_updated_at

    from folded_entries
    group by project_id, person_id

)

select * from final
