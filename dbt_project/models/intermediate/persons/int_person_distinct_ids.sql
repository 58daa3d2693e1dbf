-- One row per (project, distinct id) that belongs to a person, with its person: the connected
-- components of the identity graph (int_person_identity_links), so chains (a → b → c), cycles
-- and merges that arrive late all resolve to one person per component.
-- Person id (docs/persons.md): the component's smallest distinct id (byte order) is its
-- canonical distinct id, and person_id = md5('<project_id>:<canonical distinct id>') written as a
-- uuid (8-4-4-4-12). It is deterministic: a rebuild gives the same ids, and a late merge of two
-- persons keeps the id of the one whose canonical distinct id is smaller.
-- Group-only distinct ids (int_group_only_distinct_ids) are no one's: they are left out.
with

events as (

    select * from {{ ref('int_events_deduplicated') }}

),

identity_links as (

    select * from {{ ref('int_person_identity_links') }}

),

group_only_distinct_ids as (

    select * from {{ ref('int_group_only_distinct_ids') }}

),

seen_distinct_ids as (

    select
        project_id,
        distinct_id
    from events

    union

    select
        project_id,
        distinct_id
    from identity_links

    union

    select
        project_id,
        linked_distinct_id as distinct_id
    from identity_links

),

person_nodes as (

    select
        seen_distinct_ids.project_id,
        seen_distinct_ids.distinct_id as node_id

    from seen_distinct_ids
    left join group_only_distinct_ids
        on
            seen_distinct_ids.project_id = group_only_distinct_ids.project_id
            and seen_distinct_ids.distinct_id = group_only_distinct_ids.distinct_id
    where group_only_distinct_ids.distinct_id is null

),

identity_edges as (

    select
        project_id,
        distinct_id as from_node_id,
        linked_distinct_id as to_node_id

    from identity_links

),

components as (

    {{ gw_connected_components('person_nodes', 'identity_edges') }}

),

final as (

    select
        project_id,
        node_id as distinct_id,
        {{ gw_md5_uuid("cast(project_id as " ~ dbt.type_string() ~ ") || ':' || component_id") }} as person_id,
        component_id as canonical_distinct_id

    from components

)

select * from final
