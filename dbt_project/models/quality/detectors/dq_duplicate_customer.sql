-- duplicate_customer: the same company entered twice, judged the way record linkage does: candidate
-- pairs within a city (two companies of one name in different cities are different legal entities),
-- a name comparison with levels, and the other fields as evidence for or against.
--
-- Candidates (blocking, no cross join of all names): pairs of one city with the same core name, or of
-- one industry whose core names start with the same fuzzy syllable (华信 / 华鑫 / 花信 / 华信科技 / 华星),
-- or that share the contact's phone or the contact's name. Names are compared on customer_name_keys (macro normalize_company_name: full-width
-- forms, brackets, province / city / district, legal form and branch removed; pinyin: seed pinyin_chars):
--   same_name       the core names are equal                                   name score 1.00
--   homophone       the same pinyin (华信 / 华鑫, typed through a pinyin IME)      name score 0.95
--   near_homophone  the same fuzzy pinyin (zh/z, n/l, in/ing ...: 华信 / 华星)    name score 0.90
--   abbreviation    the copy's core name is the original's characters in order, from the same first
--                   character, and shorter (华信 / 华信科技, 中石油 / 中国石油天然气)    name score 0.85
--   swapped         two characters swapped (南华 / 华南)                              name score 0.80
--   one_char_typo   one character wrong, not a homophone (华信 / 华言)           name score 1 - 1/length
-- A same_name pair is a duplicate on its own (the names differ only in form). The other levels are
-- also what two real companies look like (华信科技 / 华鑫科技 are two firms; 华信 abbreviates 华信科技
-- and 华信物流 alike; a one-character typo is the textbook look-alike), so they need evidence. The
-- match weight adds the name's weight (homophone, near-homophone and abbreviation 0.60, swapped and
-- one-character typo 0.40) and each agreement (same phone 0.50, same contact name 0.30, same owner
-- 0.15, same industry 0.10; another industry -0.30); the pair is a duplicate from
-- dq_duplicate_min_match_weight (1.0). A phone is strong evidence; a contact's name alone is not (names
-- repeat: 王伟, 张敏), it takes the same owner or a homophone name with it. Every record matching an
-- earlier-created one is flagged as the copy, with the best-scoring original, both names and ids and
-- the scores as evidence.
with

keys as (
    select * from {{ ref('customer_name_keys') }}
    where core_name <> ''
),

first_extract as (

    select min(_extract_date) as first_extract_date from keys

),

-- candidate pairs: (original, copy), the original created first
candidates as (

    select a.customer_id as original_id, b.customer_id as copy_id
    from keys as a
    inner join keys as b
        on a.city_key = b.city_key and a.core_name = b.core_name
    where {{ row_sorts_before(['a.created_at', 'a.customer_id'], ['b.created_at', 'b.customer_id']) }}

    union

    -- the first syllable within one industry: a pair of two industries (-0.30) reaches the match weight
    -- only with the same phone, and those come from the next block
    select a.customer_id, b.customer_id
    from keys as a
    inner join keys as b
        on
            a.city_key = b.city_key
            and a.first_fuzzy_pinyin = b.first_fuzzy_pinyin
            and a.industry = b.industry
    where {{ row_sorts_before(['a.created_at', 'a.customer_id'], ['b.created_at', 'b.customer_id']) }}

    union

    select a.customer_id, b.customer_id
    from keys as a
    inner join keys as b
        on a.city_key = b.city_key and a.phone_key = b.phone_key
    where {{ row_sorts_before(['a.created_at', 'a.customer_id'], ['b.created_at', 'b.customer_id']) }}

    union

    select a.customer_id, b.customer_id
    from keys as a
    inner join keys as b
        on a.city_key = b.city_key and a.contact_name = b.contact_name
    where {{ row_sorts_before(['a.created_at', 'a.customer_id'], ['b.created_at', 'b.customer_id']) }}

),

pairs as (

    select
        a.customer_id as original_id,
        a.customer_name as original_name,
        a.created_at as original_created_at,
        b.customer_id as copy_id,
        b.customer_name as copy_name,
        b.owner_rep_id as copy_owner_rep_id,
        b.created_at as copy_created_at,
        b._extract_date as copy_extract_date,
        a.city_key,
        a.core_name as original_core,
        b.core_name as copy_core,
        a.name_pinyin = b.name_pinyin as same_pinyin,
        a.name_fuzzy_pinyin = b.name_fuzzy_pinyin as same_fuzzy_pinyin,
        case when length(a.core_name) < length(b.core_name) then a.core_name else b.core_name end
            as shorter_core,
        case when length(a.core_name) < length(b.core_name) then b.core_name else a.core_name end
            as longer_core,
        coalesce(a.phone_key = b.phone_key, false) as same_phone,
        coalesce(a.contact_name = b.contact_name, false) as same_contact,
        coalesce(a.owner_rep_id = b.owner_rep_id, false) as same_owner,
        a.industry = b.industry as same_industry
    from candidates
    inner join keys as a on candidates.original_id = a.customer_id
    inner join keys as b on candidates.copy_id = b.customer_id

),

compared as (

    select
        *,
        -- characters that differ position by position (names of one length only)
        case
            when length(original_core) = length(copy_core)
                then {{ count_differing_characters('original_core', 'copy_core') }}
        end as differing_positions
    from pairs

),

levelled as (

    select
        *,
        case
            when original_core = copy_core then 'same_name'
            when same_pinyin then 'homophone'
            when same_fuzzy_pinyin then 'near_homophone'
            -- the shorter name's characters in order in the longer one (中石油 -> pattern 中.*石.*油.*),
            -- from the same first character; tried last, on few pairs (a pattern compiled per pair)
            -- (cheap tests first: the conditions are evaluated left to right on the remaining pairs)
            -- the copy is the shorter name: a rep in a hurry abbreviates; a later record that adds words
            -- (华信集团 -> 华信销售) is another legal entity of the group, a subsidiary
            when
                left(original_core, 1) = left(copy_core, 1)
                and length(copy_core) >= 2
                and length(copy_core) < length(original_core)
                and {{ list_has_all_of("split(longer_core, '')", "split(shorter_core, '')") }}
                and {{ characters_in_order('shorter_core', 'longer_core') }}
                then 'abbreviation'
            -- one character typed wrong, or two swapped (DuckDB's jaro_winkler and levenshtein count
            -- bytes: 华信科技 / 华信物流 share 2 of 3 bytes of each different character, so positions here)
            when length(original_core) = length(copy_core) and length(original_core) >= 3
                and differing_positions = 1
                then 'one_char_typo'
            when length(original_core) = length(copy_core)
                and differing_positions = 2
                and array_sort(split(original_core, '')) = array_sort(split(copy_core, ''))
                then 'swapped'
        end as name_level
    from compared

),

scored as (

    select
        *,
        case name_level
            when 'same_name' then 1.00
            when 'homophone' then 0.95
            when 'near_homophone' then 0.90
            when 'abbreviation' then 0.85
            when 'swapped' then 0.80
            -- one character of n wrong
            else round(1 - 1 / length(copy_core), 2)
        end as name_score,
        -- the match weight: the name's weight plus the evidence of the other fields
        case name_level
            when 'same_name' then 1.00
            when 'homophone' then 0.60
            when 'near_homophone' then 0.60
            when 'abbreviation' then 0.60
            else 0.40
        end
        + case when same_phone then 0.50 else 0 end
        + case when same_contact then 0.30 else 0 end
        + case when same_owner then 0.15 else 0 end
        + case when same_industry then 0.10 when not same_industry then -0.30 else 0 end as match_weight
    from levelled
    where name_level is not null

),

matched as (

    select
        *,
        row_number() over (
            partition by copy_id order by match_weight desc, original_created_at, original_id
        ) as best
    from scored
    where name_level = 'same_name' or match_weight >= {{ var('dq_duplicate_min_match_weight') }}

),

final as (

    select
        'duplicate_customer' as rule_id,
        'customers' as entity,
        matched.copy_id as record_id,
        matched.copy_owner_rep_id as rep_id,
        '「' || matched.copy_name || '」(' || matched.copy_id || ') 与「' || matched.original_name || '」('
        || matched.original_id || '，' || {{ timestamp_text('matched.original_created_at', '%Y-%m-%d') }} || ' 建档) 疑似同一公司，同在'
        || matched.city_key || '：名称' || case matched.name_level
            when 'same_name' then '规范化后相同「' || matched.copy_core || '」'
            when 'homophone' then '同音「' || matched.copy_core || '」/「' || matched.original_core || '」'
            when 'near_homophone' then '近音「' || matched.copy_core || '」/「' || matched.original_core || '」'
            when 'abbreviation' then '简称「' || matched.copy_core || '」/「' || matched.original_core || '」'
            when 'swapped' then '字序颠倒「' || matched.copy_core || '」/「' || matched.original_core || '」'
            else '一字之差「' || matched.copy_core || '」/「' || matched.original_core || '」'
        end
        || '（' || {{ number_text('matched.name_score', 2, false) }} || '）'
        || case when matched.same_phone then '，同一联系电话' else '' end
        || case when matched.same_contact then '，同一联系人' else '' end
        || case when matched.same_owner then '，同一负责人' else '' end
        || case when matched.same_industry then '，同行业' when not matched.same_industry then '，行业不同' else '' end
        || '，匹配分 ' || {{ number_text('matched.match_weight', 2, false) }}
        || ' / same company as ' || matched.original_id || ' (created '
        || {{ timestamp_text('matched.original_created_at', '%Y-%m-%d') }} || '): name ' || matched.name_level || ' '
        || {{ number_text('matched.name_score', 2, false) }}
        || case when matched.same_phone then ', same phone' else '' end
        || case when matched.same_contact then ', same contact' else '' end
        || case when matched.same_owner then ', same owner' else '' end
        || case
            when matched.same_industry then ', same industry'
            when not matched.same_industry then ', other industry'
            else ''
        end
        || ', match weight ' || {{ number_text('matched.match_weight', 2, false) }} as evidence,
        -- an account arrives with the extract of the day it was created (older ones with the first)
        least(
            matched.copy_extract_date,
            greatest(cast(matched.copy_created_at as date), first_extract.first_extract_date)
        ) as first_seen_date,
        cast(null as decimal(18, 2)) as amount,
        -- beyond the quarantine's columns: the pair as data (dq_shared_phone counts a company once)
        matched.original_id as original_customer_id,
        matched.name_level,
        matched.name_score,
        matched.match_weight
    from matched
    cross join first_extract
    where matched.best = 1

)

select * from final
