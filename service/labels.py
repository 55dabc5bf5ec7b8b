"""The 18 label ids and the two flags of the annotation guidelines: the one source.

Every other module (annotations, classifiers, coverage, reports, the API) takes
ids, slugs and titles from here. The ids are those of the guidelines, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Label:
    id: str
    slug: str
    principle: int
    description: str


PRINCIPLES: dict[int, str] = {
    1: "International co-operation and agreements",
    2: "Jointly addressing and investigating trafficking in persons and corruption, "
    "with particular focus on at-risk sectors",
    3: "Transparency and an integrity framework for public officials at risk",
    4: "Awareness-raising and prevention measures for public officials and the general public",
    5: "Improvement of data collection and systematic use of information",
    6: "Lift immunity in corruption and trafficking cases",
}

LABELS: tuple[Label, ...] = (
    Label("1.1", "conventions_cooperation", 1,
          "ratifies or implements conventions on trafficking or corruption, aligns law with "
          "international standards, joins review mechanisms, commits to international co-operation"),
    Label("1.2", "mla_extradition", 1,
          "mutual legal assistance, extradition, transfer of proceedings, joint investigations, "
          "international asset tracing and confiscation, measures at transnational risk points"),
    Label("2.1", "joint_strategy", 2,
          "a strategy, plan, policy or law addressing trafficking and corruption together"),
    Label("2.2", "at_risk_sectors", 2,
          "identifies, regulates, inspects or monitors sectors at risk of trafficking or exploitation"),
    Label("2.3", "information_sharing", 2,
          "sharing of information among actors, task forces, anti-money-laundering and "
          "confiscation of proceeds"),
    Label("2.4", "corruption_investigation", 2,
          "corruption, complicity of officials or suspects' finances investigated or prosecuted "
          "alongside trafficking"),
    Label("2.5", "multi_agency", 2,
          "specialised or multi-agency units, co-ordination bodies, joint training"),
    Label("3.1", "codes_of_conduct", 3,
          "codes of conduct or ethics for officials, and disciplinary sanctions for breaching them"),
    Label("3.2", "transparent_operations", 3,
          "transparency and checks on officials' work in at-risk functions: approvals, rotation, "
          "records, audits, review"),
    Label("3.3", "integrity_framework", 3,
          "asset disclosure, conflicts of interest, gifts, outside employment, post-employment, "
          "anti-corruption training"),
    Label("3.4", "reporting_whistleblowing", 3,
          "channels to report misconduct, corruption or trafficking, and protection of reporters"),
    Label("3.5", "recruitment_supervision", 3,
          "transparent, merit-based recruitment and promotion of officials, vetting, supervision, pay"),
    Label("3.6", "victim_identification_training", 3,
          "training officials to identify trafficking victims and recognise the crime"),
    Label("4.1", "public_awareness", 4,
          "public awareness of trafficking or corruption, public participation, access to information"),
    Label("4.2", "targeted_awareness", 4,
          "awareness among anti-trafficking actors of how corruption facilitates trafficking"),
    Label("4.3", "victim_prevention", 4,
          "preventing victimisation: information for migrants, early warning, reducing vulnerability"),
    Label("5.1", "data_collection", 5,
          "collecting, analysing, publishing or using data or research on trafficking or corruption"),
    Label("6.1", "immunity", 6,
          "immunities of officials from prosecution: scope, limits, waiver or lifting"),
)  # fmt: skip

LABEL_IDS: tuple[str, ...] = tuple(label.id for label in LABELS)
BY_ID: dict[str, Label] = {label.id: label for label in LABELS}

FLAGS: tuple[str, ...] = ("mentions_trafficking", "mentions_corruption")

# What the guiding principles recommend where a label is missing, in our words.
RECOMMENDATIONS: dict[str, str] = {
    "1.1": "Join the trafficking and anti-corruption conventions and their review mechanisms, "
    "align national law with them, and commit to co-operation with other states against both.",
    "1.2": "Put working mutual legal assistance and extradition in place, able to trace, freeze and "
    "seize traffickers' assets abroad, with simplified and prioritised procedures and counter-"
    "measures at transnational risk points such as travel documents and work permits.",
    "2.1": "Adopt a strategy that deals with trafficking and corruption together, or write "
    "corruption measures into the anti-trafficking plan and trafficking into the anti-corruption "
    "strategy.",
    "2.2": "Identify the sectors where trafficking-related corruption is likeliest (construction, "
    "sex industry, agriculture, fishing, textiles, labour recruitment) and regulate and monitor "
    "them, with NGOs and the private sector.",
    "2.3": "Share information and resources: referral between anti-trafficking and anti-corruption "
    "bodies, task forces or joint operations, NGO-police protocols, and anti-money-laundering tools "
    "to confiscate trafficking proceeds and stop their reinvestment.",
    "2.4": "Investigate corruption and suspects' finances alongside every trafficking case, with "
    "indicators that help investigators detect complicit officials.",
    "2.5": "Set up specialised multi-agency units of prosecutors and police, and train anti-"
    "corruption and anti-trafficking practitioners together.",
    "3.1": "Give officials at risk (police, border, immigration, labour inspection, judiciary, "
    "diplomats) codes of conduct that address corruption and trafficking, with sanctions for "
    "breaches.",
    "3.2": "Make the work of staff in at-risk functions transparent: fewer one-person decisions, "
    "less discretion and red tape, records and review of case handling.",
    "3.3": "Build the wider integrity framework: asset disclosure, conflict-of-interest rules, limits "
    "on outside positions, and anti-corruption training for officials at risk.",
    "3.4": "Open confidential channels (hotlines, complaint mechanisms) for officials and the public "
    "to report misconduct, and protect those who report from retaliation.",
    "3.5": "Recruit key officials through transparent, competitive selection under independent "
    "scrutiny, then train, supervise and evaluate them regularly.",
    "3.6": "Train police, border and consular staff, inspectors, prosecutors and judges to identify "
    "trafficking victims and recognise the warning signs.",
    "4.1": "Raise public awareness of trafficking and corruption (campaigns, media, school "
    "curricula), guarantee access to information and involve civil society in prevention.",
    "4.2": "Make those working against trafficking (police, prosecutors, NGOs) aware of how "
    "corruption facilitates trafficking and of their own risks and responsibilities.",
    "4.3": "Protect potential victims: counselling and rights information before and after "
    "migration, and community alerts to early signs of corruption and trafficking.",
    "5.1": "Collect, analyse and use data on trafficking and on related corruption cases, "
    "including information from victims and NGOs, systematically.",
    "6.1": "Make sure immunities of officials can be lifted so that corruption and trafficking "
    "offences can be investigated, prosecuted and tried.",
}


def check_label_ids(ids: object) -> list[str]:
    """The ids of ``ids`` that are not label ids of the guidelines (empty when all are)."""
    if not isinstance(ids, list):
        return [repr(ids)]
    return [repr(i) for i in ids if i not in BY_ID]
