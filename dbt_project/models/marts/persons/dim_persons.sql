-- One row per person (project, person_id): the connected component of its distinct ids
-- (int_person_distinct_ids), its properties folded from `$set` / `$set_once`
-- (int_person_properties), when it was first and last seen and how many events it sent.
-- Group-only distinct ids are no one's: they have no row here.
with

person_distinct_ids as (

    select * from {{ ref('int_person_distinct_ids') }}

),

person_properties as (

    select * from {{ ref('int_person_properties') }}

),

identity_links as (

    select * from {{ ref('int_person_identity_links') }}

),

events as (

    select * from {{ ref('int_events_deduplicated') }}

),

persons as (

    select
        project_id,
        person_id,
        min(canonical_distinct_id) as canonical_distinct_id,
        count(*) as distinct_id_count

    from person_distinct_ids
    group by project_id, person_id

),

person_activity as (

    select
        person_distinct_ids.project_id,
        person_distinct_ids.person_id,
        min(events.event_at) as first_event_at,
        max(events.event_at) as last_event_at,
        count(*) as event_count

    from events
    inner join person_distinct_ids
        on
            events.project_id = person_distinct_ids.project_id
            and events.distinct_id = person_distinct_ids.distinct_id
    group by person_distinct_ids.project_id, person_distinct_ids.person_id

),

identified_persons as (

    select distinct
        person_distinct_ids.project_id,
        person_distinct_ids.person_id

    from identity_links
    inner join person_distinct_ids
        on
            identity_links.project_id = person_distinct_ids.project_id
            and identity_links.distinct_id = person_distinct_ids.distinct_id

),

final as (

    select
        -- keys
        persons.project_id,
        persons.person_id,

        -- attributes
        persons.canonical_distinct_id,
        coalesce(person_properties.properties, '{}') as properties,
        identified_persons.person_id is not null as is_identified,

        -- timestamps
        person_activity.first_event_at as created_at,
        person_activity.last_event_at as last_seen_at,
        person_properties.properties_updated_at,

        -- measures
        persons.distinct_id_count,
        coalesce(person_activity.event_count, 0) as event_count

    from persons
    left join person_properties
        on
            persons.project_id = person_properties.project_id
            and persons.person_id = person_properties.person_id
    left join person_activity
        on
            persons.project_id = person_activity.project_id
            and persons.person_id = person_activity.person_id
    left join identified_persons
        on
            persons.project_id = identified_persons.project_id
            and persons.person_id = identified_persons.person_id

)

select * from final
