// The four demo industries: their product catalogues (with consumables and
// sequential affinities) and the parameters of each one's customer story.
// docs/demo.md explains every number.
import { type Choice, choice } from './random.ts';

export const INDUSTRIES = ['retail', 'education', 'fitness', 'restaurant'] as const;
export type IndustryKey = (typeof INDUSTRIES)[number];

export interface Product {
  id: string;
  name: string;
  category: string;
  /** list price, yuan */
  price: number;
  /** a consumable: re-bought about every N days */
  repurchaseDays?: number;
  /** often followed by this product about followUpDays later */
  followUpId?: string;
  followUpDays?: number;
  /** fitness: days of membership this product buys */
  membershipDays?: number;
}

export interface Industry {
  key: IndustryKey;
  /** purchase rate λ per day ~ Gamma(rateShape, rateMean / rateShape) across customers */
  rateMean: number;
  rateShape: number;
  /** drop-out probability after each purchase p ~ Beta(dropA, dropB) */
  dropA: number;
  dropB: number;
  /** spend: per-customer mean m ~ inverse-gamma (shape spendShape) with mean spendMean; order value ~ Gamma(orderShape, m / orderShape) */
  spendMean: number;
  spendShape: number;
  orderShape: number;
  /** app/web sessions per purchase (times λ), and extra events per session beyond the login */
  sessionsPerPurchase: number;
  eventsPerSession: number;
  sessionEvents: Choice<string>;
  /** the industry's core activity while a customer is alive: course lessons, gym visits */
  coreEvent?: { type: string; perWeek: number };
  channels: Choice<string>;
  stores: readonly string[];
  acquisition: Choice<string>;
  /** age range of customers */
  ages: readonly [number, number];
  /** ticket rate per customer-year, for everyone */
  ticketsPerYear: number;
  products: Product[];
}

const p = (
  id: string,
  name: string,
  category: string,
  price: number,
  extra: Partial<Pick<Product, 'repurchaseDays' | 'followUpId' | 'followUpDays' | 'membershipDays'>> = {},
): Product => ({ id, name, category, price, ...extra });

const RETAIL_PRODUCTS: Product[] = [
  p('P001', '婴儿推车 Baby stroller', '母婴 Mother & baby', 1299, { followUpId: 'P002', followUpDays: 90 }),
  p('P002', '学步鞋 Toddler walking shoes', '母婴 Mother & baby', 199),
  p('P003', '纸尿裤 Diapers (L, 54)', '母婴 Mother & baby', 139, { repurchaseDays: 30 }),
  p('P004', '婴儿奶粉 Infant formula 800g', '母婴 Mother & baby', 268, { repurchaseDays: 30 }),
  p('P005', '湿巾 Baby wipes (6 packs)', '母婴 Mother & baby', 49, { repurchaseDays: 30 }),
  p('P006', '儿童安全座椅 Child car seat', '母婴 Mother & baby', 1580, { followUpId: 'P007', followUpDays: 120 }),
  p('P007', '儿童餐椅 High chair', '母婴 Mother & baby', 399),
  p('P010', '精华液 Face serum', '美妆 Beauty', 459, { followUpId: 'P011', followUpDays: 60 }),
  p('P011', '面霜 Face cream', '美妆 Beauty', 329),
  p('P012', '洗面奶 Cleanser', '美妆 Beauty', 89, { repurchaseDays: 45 }),
  p('P013', '口红 Lipstick', '美妆 Beauty', 239),
  p('P020', '咖啡豆 Coffee beans 500g', '食品 Food', 98, { repurchaseDays: 30 }),
  p('P021', '坚果礼盒 Nut gift box', '食品 Food', 168),
  p('P022', '燕麦片 Oatmeal 1kg', '食品 Food', 45, { repurchaseDays: 30 }),
  p('P023', '有机牛奶 Organic milk (12)', '食品 Food', 79, { repurchaseDays: 14 }),
  p('P030', 'T恤 T-shirt', '服装 Apparel', 129),
  p('P031', '牛仔裤 Jeans', '服装 Apparel', 299),
  p('P032', '羽绒服 Down jacket', '服装 Apparel', 899),
  p('P033', '运动鞋 Sneakers', '服装 Apparel', 599),
  p('P040', '洗衣液 Laundry detergent', '家居 Home', 59, { repurchaseDays: 40 }),
  p('P041', '床品四件套 Bedding set', '家居 Home', 459),
  p('P042', '收纳箱 Storage box', '家居 Home', 69),
  p('P043', '空气净化器 Air purifier', '家居 Home', 1999, { followUpId: 'P044', followUpDays: 90 }),
  p('P044', '净化器滤芯 Purifier filter', '家居 Home', 199),
];

const EDUCATION_PRODUCTS: Product[] = [
  p('E001', 'Python 入门 Python basics', '编程 Programming', 1999, { followUpId: 'E002', followUpDays: 90 }),
  p('E002', 'Python 进阶 Advanced Python', '编程 Programming', 2999, { followUpId: 'E003', followUpDays: 90 }),
  p('E003', '数据分析实战 Data analysis project', '编程 Programming', 3999),
  p('E010', '雅思基础 IELTS foundation', '语言 Languages', 4800, { followUpId: 'E011', followUpDays: 90 }),
  p('E011', '雅思冲刺 IELTS intensive', '语言 Languages', 6800),
  p('E012', '商务英语 Business English', '语言 Languages', 3200),
  p('E020', '少儿编程 Kids coding (term)', '少儿 Kids', 3600, { followUpId: 'E021', followUpDays: 120 }),
  p('E021', '少儿编程进阶 Kids coding II', '少儿 Kids', 3600),
  p('E022', '少儿美术 Kids art (term)', '少儿 Kids', 2400),
  p('E030', '教材包 Course materials', '教材 Materials', 199),
  p('E031', '一对一辅导 1-on-1 tutoring (5 h)', '辅导 Tutoring', 1500, { repurchaseDays: 60 }),
  p('E032', '模考 Mock exam', '辅导 Tutoring', 299),
];

const FITNESS_PRODUCTS: Product[] = [
  p('F001', '月卡 Monthly membership', '会籍 Membership', 399, { repurchaseDays: 30, membershipDays: 30 }),
  p('F002', '季卡 Quarterly membership', '会籍 Membership', 999, { repurchaseDays: 90, membershipDays: 90 }),
  p('F003', '年卡 Annual membership', '会籍 Membership', 2999, { membershipDays: 365 }),
  p('F010', '私教课 10 节 Personal training x10', '私教 Personal training', 3000, { followUpId: 'F011', followUpDays: 90 }),
  p('F011', '私教课 20 节 Personal training x20', '私教 Personal training', 5600),
  p('F012', '体测 Body assessment', '私教 Personal training', 199),
  p('F020', '蛋白粉 Protein powder', '补剂 Supplements', 298, { repurchaseDays: 30 }),
  p('F021', '能量棒 Energy bars (12)', '补剂 Supplements', 89, { repurchaseDays: 30 }),
  p('F030', '瑜伽垫 Yoga mat', '装备 Gear', 159),
  p('F031', '运动手环 Fitness band', '装备 Gear', 249),
  p('F040', '团课次卡 Group class pack', '团课 Classes', 480, { repurchaseDays: 45 }),
];

const RESTAURANT_PRODUCTS: Product[] = [
  p('R001', '招牌红烧肉 Signature braised pork', '招牌菜 Signature', 68),
  p('R002', '招牌烤鱼 Signature grilled fish', '招牌菜 Signature', 118),
  p('R003', '宫保鸡丁 Kung pao chicken', '热菜 Mains', 42),
  p('R004', '麻婆豆腐 Mapo tofu', '热菜 Mains', 28),
  p('R005', '清炒时蔬 Seasonal greens', '热菜 Mains', 22),
  p('R006', '水煮牛肉 Sichuan boiled beef', '热菜 Mains', 58),
  p('R010', '米饭 Rice', '主食 Staples', 3),
  p('R011', '手工面 Hand-pulled noodles', '主食 Staples', 18),
  p('R020', '工作日午市套餐 Weekday lunch set', '套餐 Set meals', 38, { repurchaseDays: 7 }),
  p('R021', '双人套餐 Set for two', '套餐 Set meals', 168),
  p('R022', '家庭套餐 Family set', '套餐 Set meals', 298),
  p('R030', '酸梅汤 Plum drink', '饮品 Drinks', 12),
  p('R031', '精酿啤酒 Craft beer', '饮品 Drinks', 28),
  p('R040', '杨枝甘露 Mango sago', '甜品 Desserts', 22),
  p('R041', '月饼礼盒 Mooncake gift box', '礼盒 Gifts', 198),
];

export const INDUSTRY: Record<IndustryKey, Industry> = {
  retail: {
    key: 'retail',
    rateMean: 0.06,
    rateShape: 1.3,
    dropA: 1.1,
    dropB: 14,
    spendMean: 260,
    spendShape: 5,
    orderShape: 4,
    sessionsPerPurchase: 1.5,
    eventsPerSession: 1.3,
    sessionEvents: choice([['page_view', 40], ['product_view', 35], ['search', 12], ['add_to_cart', 13]]),
    channels: choice([['store', 40], ['wechat_mini_program', 30], ['tmall', 15], ['jd', 10], ['app', 5]]),
    stores: ['上海徐汇店', '上海浦东店', '北京朝阳店', '北京海淀店', '广州天河店', '深圳南山店', '杭州西湖店', '成都春熙路店'],
    acquisition: choice([['offline_store', 30], ['wechat', 22], ['douyin', 12], ['xiaohongshu', 10], ['search_ads', 8], ['referral', 10], ['organic', 8]]),
    ages: [20, 48],
    ticketsPerYear: 0.25,
    products: RETAIL_PRODUCTS,
  },
  education: {
    key: 'education',
    rateMean: 0.008,
    rateShape: 1.5,
    dropA: 1.5,
    dropB: 4,
    spendMean: 3200,
    spendShape: 8,
    orderShape: 6,
    sessionsPerPurchase: 20,
    eventsPerSession: 1.2,
    sessionEvents: choice([['page_view', 50], ['course_view', 35], ['search', 15]]),
    coreEvent: { type: 'course_lesson_completed', perWeek: 2 },
    channels: choice([['app', 45], ['web', 30], ['offline_campus', 25]]),
    stores: ['上海徐家汇校区', '北京中关村校区', '深圳科技园校区', '线上 Online'],
    acquisition: choice([['search_ads', 25], ['wechat', 20], ['douyin', 15], ['referral', 20], ['offline_event', 10], ['organic', 10]]),
    ages: [16, 45],
    ticketsPerYear: 0.5,
    products: EDUCATION_PRODUCTS,
  },
  fitness: {
    key: 'fitness',
    rateMean: 0.02,
    rateShape: 2,
    dropA: 1.3,
    dropB: 7,
    spendMean: 700,
    spendShape: 6,
    orderShape: 5,
    sessionsPerPurchase: 4,
    eventsPerSession: 1,
    sessionEvents: choice([['class_booked', 50], ['page_view', 30], ['feature_used', 20]]),
    coreEvent: { type: 'visit', perWeek: 2.2 },
    channels: choice([['front_desk', 60], ['app', 40]]),
    stores: ['静安店', '陆家嘴店', '三里屯店', '国贸店', '科技园店'],
    acquisition: choice([['walk_in', 30], ['meituan', 20], ['wechat', 15], ['referral', 20], ['douyin', 15]]),
    ages: [18, 50],
    ticketsPerYear: 0.3,
    products: FITNESS_PRODUCTS,
  },
  restaurant: {
    key: 'restaurant',
    rateMean: 0.06,
    rateShape: 1.2,
    dropA: 1,
    dropB: 12,
    spendMean: 130,
    spendShape: 5,
    orderShape: 3,
    sessionsPerPurchase: 0.8,
    eventsPerSession: 1,
    sessionEvents: choice([['menu_view', 60], ['page_view', 25], ['coupon_view', 15]]),
    channels: choice([['dine_in', 60], ['takeaway', 15], ['meituan', 15], ['eleme', 10]]),
    stores: ['南京西路店', '人民广场店', '五道口店', '天河城店', '春熙路店', '西湖银泰店'],
    acquisition: choice([['walk_in', 40], ['meituan', 20], ['dianping', 15], ['wechat', 10], ['referral', 10], ['douyin', 5]]),
    ages: [18, 60],
    ticketsPerYear: 0.15,
    products: RESTAURANT_PRODUCTS,
  },
};

export function isIndustry(s: string): s is IndustryKey {
  return (INDUSTRIES as readonly string[]).includes(s);
}
